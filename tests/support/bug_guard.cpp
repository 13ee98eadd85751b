// The in-process half of the bug guard (bug_guard.hpp): a GoogleTest
// listener, compiled into every test binary, that fails the test during
// which errors_total{kind="bug"} grew by more than the test expected.
#include "bug_guard.hpp"

#include <gtest/gtest.h>

#include "kiebot/base/errors.hpp"

namespace kiebot::test {

namespace {

double at_start = 0;
double expected = 0;

class BugGuard : public ::testing::EmptyTestEventListener {
  void OnTestStart(const ::testing::TestInfo&) override {
    at_start = bugs_reported();
    expected = 0;
  }
  // Called before the result printer's (OnTestEnd runs listeners in reverse),
  // while the test is still the current one: the failure is the test's.
  void OnTestEnd(const ::testing::TestInfo&) override {
    auto bugs = bugs_reported() - at_start;
    if (bugs > expected) {
      ADD_FAILURE() << "the code under test reported " << bugs << " bug(s) (errors_total{kind=\"bug\"}), " << expected
                    << " expected: see the \"error_kind\":\"bug\" lines above";
    }
  }
};

const bool installed = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new BugGuard);
  return true;
}();

}  // namespace

void expect_bugs(int count) {
  expected += count;
}

}  // namespace kiebot::test
