// Every test fails when the code under test meets a bug (errors.hpp): in
// this process (errors_total{kind="bug"} grew during the test) or in a
// service it started (a {"error_kind":"bug"} line in its stderr, see
// Process). A test that provokes one on purpose says how many it expects.
#pragma once

namespace kiebot::test {

// The current test expects `count` more bugs reported in this process.
void expect_bugs(int count);

}  // namespace kiebot::test
