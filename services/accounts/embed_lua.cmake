# Writes the accounts Lua scripts into a C++ source, each one prefixed with
# common.lua, so the binary carries its scripts and loads no files at run time.
string(REPLACE "," ";" NAMES "${NAMES}")
file(READ ${DIR}/common.lua common)
set(out "// Generated from services/accounts/lua by embed_lua.cmake. Do not edit.\n")
string(APPEND out "#include \"scripts.hpp\"\n\nnamespace kiebot::accounts::lua {\n\n")
foreach(name ${NAMES})
  file(READ ${DIR}/${name}.lua body)
  string(APPEND out "const char* const ${name} = R\"lua(${common}\n${body})lua\";\n\n")
endforeach()
string(APPEND out "}  // namespace kiebot::accounts::lua\n")
file(WRITE ${OUT} "${out}")
