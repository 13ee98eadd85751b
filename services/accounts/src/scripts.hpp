// The accounts Lua scripts (lua/*.lua, each with common.lua in front),
// embedded at build time.
#pragma once

namespace kiebot::accounts::lua {

extern const char* const user_get;
extern const char* const hold_create;
extern const char* const hold_settle;
extern const char* const credit;
extern const char* const debit;
extern const char* const grant;
extern const char* const hold_get;
extern const char* const audit;
extern const char* const gift;
extern const char* const language;
extern const char* const referral;
extern const char* const admin;

}  // namespace kiebot::accounts::lua
