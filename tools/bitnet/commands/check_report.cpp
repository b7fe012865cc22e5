#include "check_report.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <iostream>

#include "../command.hpp"

namespace bitnet::cli {

namespace json = boost::json;
using model::Check;
using model::Verdict;

int report_checks(const std::string& file, const std::vector<Check>& checks, bool as_json) {
  const Verdict result = model::overall(checks);
  if (as_json) {
    json::array items;
    for (const Check& c : checks)
      items.push_back(json::object{
          {"check", c.name}, {"verdict", model::verdict_name(c.verdict)}, {"detail", c.detail}});
    std::cout << json::serialize(json::object{{"file", file},
                                              {"result", model::verdict_name(result)},
                                              {"checks", std::move(items)}})
              << "\n";
  } else {
    size_t fails = 0, warns = 0;
    for (const Check& c : checks) {
      std::string name = c.name;
      name.resize(std::max<size_t>(name.size(), 18), ' ');
      std::cout << model::verdict_name(c.verdict) << "  " << name << " " << c.detail << "\n";
      fails += c.verdict == Verdict::fail;
      warns += c.verdict == Verdict::warn;
    }
    std::cout << "\n"
              << file << ": " << model::verdict_name(result) << " (" << fails << " failed, "
              << warns << " warned, " << checks.size() - fails - warns << " passed)\n";
  }
  return result == Verdict::fail ? kExitRuntimeError : kExitOk;
}

}  // namespace bitnet::cli
