#define BOOST_TEST_MODULE bitnet
#include <boost/test/unit_test.hpp>
