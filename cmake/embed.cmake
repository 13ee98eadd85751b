# Writes a C++ source defining `const char* const <NAME>` (in namespace
# <NAMESPACE>) holding the text of <INPUT>, so data files are compiled in.
# cmake -DINPUT=... -DOUTPUT=... -DNAME=... -DNAMESPACE=... -P embed.cmake
file(READ "${INPUT}" content)
string(FIND "${content}" ")kiebot\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter )kiebot\"")
endif()
file(WRITE "${OUTPUT}.tmp" "// Generated from ${INPUT} by cmake/embed.cmake.\nnamespace ${NAMESPACE} {\nextern const char* const ${NAME};\nconst char* const ${NAME} = R\"kiebot(${content})kiebot\";\n}  // namespace ${NAMESPACE}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
