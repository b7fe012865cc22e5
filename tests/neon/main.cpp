// The arm64 conformance harness: Boost.Test's header-only variant, so the cross build needs no
// compiled Boost library. Suites: ops (op conformance) and model (whole-model greedy parity).
#define BOOST_TEST_MODULE neon_conformance
#include <boost/test/included/unit_test.hpp>
