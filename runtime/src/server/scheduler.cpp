#include <bitnet/runtime/log.hpp>
#include <bitnet/runtime/server/scheduler.hpp>

#include <algorithm>
#include <optional>

#include "sequence.hpp"
#include "stepper.hpp"

namespace bitnet::server {

using Clock = std::chrono::steady_clock;

struct Scheduler::Slot {
  model::Session* session = nullptr;
  std::optional<Sequence> seq;
  std::vector<float> logits;
  Clock::time_point last_token;
  bool first = true;
};

namespace {

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

Scheduler::Scheduler(const tok::Tokenizer& tokenizer,
                     std::vector<std::unique_ptr<model::Session>> slots,
                     std::unique_ptr<Stepper> stepper, size_t queue_limit, int64_t n_batch,
                     Metrics& metrics)
    : tokenizer_(tokenizer),
      sessions_(std::move(slots)),
      stepper_(std::move(stepper)),
      queue_limit_(queue_limit),
      n_batch_(std::max<int64_t>(n_batch, 1)),
      n_ctx_(sessions_.front()->n_ctx()),
      n_vocab_(sessions_.front()->n_vocab()),
      metrics_(metrics) {
  metrics_.set_slots(static_cast<int64_t>(sessions_.size()));
  thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool Scheduler::submit(std::shared_ptr<Job> job) {
  {
    std::lock_guard lock(mutex_);
    purge_cancelled();  // a client that left gives its place in the queue back at once
    if (stopping_ || queue_.size() >= queue_limit_) return false;
    job->submitted = Clock::now();
    queue_.push_back(std::move(job));
    metrics_.set_queue(static_cast<int64_t>(queue_.size()), static_cast<int64_t>(busy_));
  }
  wake_.notify_one();
  return true;
}

bool Scheduler::idle() const {
  std::lock_guard lock(mutex_);
  return queue_.empty() && busy_ == 0;
}

void Scheduler::purge_cancelled() {
  const size_t before = queue_.size();
  std::erase_if(queue_, [](const std::shared_ptr<Job>& j) { return j->cancelled.load(); });
  for (size_t i = queue_.size(); i < before; ++i)
    metrics_.count_cancelled();
}

void Scheduler::run() {
  std::vector<Slot> slots(sessions_.size());
  for (size_t i = 0; i < slots.size(); ++i)
    slots[i].session = sessions_[i].get();
  auto busy = [&] {
    return static_cast<size_t>(
        std::count_if(slots.begin(), slots.end(), [](const Slot& s) { return s.seq.has_value(); }));
  };
  while (true) {
    {
      std::unique_lock lock(mutex_);
      purge_cancelled();
      busy_ = busy();
      metrics_.set_queue(static_cast<int64_t>(queue_.size()), static_cast<int64_t>(busy_));
      if (busy_ == 0) wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      admit(slots);
      busy_ = busy();
      metrics_.set_queue(static_cast<int64_t>(queue_.size()), static_cast<int64_t>(busy_));
    }
    round(slots);
  }
  const Error gone(BITNET_STATUS_INTERNAL, "the server is shutting down");
  for (Slot& s : slots)
    if (s.seq) s.seq->job().listener->on_error(gone);
  std::lock_guard lock(mutex_);
  for (const std::shared_ptr<Job>& j : queue_)
    j->listener->on_error(gone);
  queue_.clear();
  busy_ = 0;
}

void Scheduler::admit(std::vector<Slot>& slots) {
  for (Slot& s : slots) {
    if (queue_.empty()) return;
    if (s.seq) continue;
    s.session->reset();
    s.seq.emplace(std::move(queue_.front()), tokenizer_);
    queue_.pop_front();
    s.first = true;
  }
}

void Scheduler::round(std::vector<Slot>& slots) {
  std::vector<StepItem> items;
  std::vector<Slot*> owners;
  for (Slot& s : slots) {
    if (!s.seq) continue;
    if (s.seq->job().cancelled) {
      log::debug("server", "client gone: slot freed after ", s.seq->generated(), " tokens");
      metrics_.count_cancelled();
      s.seq.reset();
      continue;
    }
    StepItem item;
    item.session = s.session;
    item.logits = &s.logits;
    if (s.seq->prefilling()) {
      const std::span<const int32_t> rest = s.seq->unevaluated_prompt();
      item.tokens = rest.first(std::min(rest.size(), static_cast<size_t>(n_batch_)));
      if (item.tokens.size() < rest.size()) item.logits = nullptr;
    } else {
      item.tokens = s.seq->next_token();
    }
    items.push_back(item);
    owners.push_back(&s);
  }
  if (items.empty()) return;
  stepper_->step(items);
  const Clock::time_point now = Clock::now();
  for (size_t i = 0; i < items.size(); ++i) {
    Slot& s = *owners[i];
    Sequence& seq = *s.seq;
    if (!items[i].result) {
      log::warn("server", "a generation failed: ", items[i].result.error().message);
      seq.job().listener->on_error(items[i].result.error());
      s.seq.reset();
      continue;
    }
    if (seq.prefilling()) {
      seq.prompt_evaluated(items[i].tokens.size());
      if (seq.prefilling()) continue;
      metrics_.add_prompt_tokens(static_cast<int64_t>(seq.job().prompt.size()));
    }
    if (s.first)
      metrics_.observe_time_to_first_token(seconds(now - seq.job().submitted));
    else
      metrics_.observe_token_latency(seconds(now - s.last_token));
    s.first = false;
    s.last_token = now;
    metrics_.add_generated_tokens(1);
    if (!seq.advance(s.logits)) s.seq.reset();
  }
}

}  // namespace bitnet::server
