// Generated blocks of documents (see generated_doc.hpp).
#include "kiebot/base/generated_doc.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

namespace kiebot {

int generated_block_main(int argc, char** argv, const GeneratedBlock& block, const std::string& content) {
  if (argc == 1) {
    std::cout << content;
    return 0;
  }
  std::string_view mode = argc == 3 ? argv[1] : "";
  if (mode != "--check" && mode != "--write") {
    std::cerr << "usage: " << argv[0] << " [--check FILE | --write FILE]\n";
    return 2;
  }
  std::ifstream in(argv[2]);
  std::stringstream text;
  text << in.rdbuf();
  auto doc = text.str();
  auto begin = doc.find(block.begin);
  auto end = begin == std::string::npos ? std::string::npos : doc.find(block.end, begin + block.begin.size());
  if (end == std::string::npos) {
    std::cerr << argv[2] << " has no generated block (" << block.begin.substr(0, block.begin.find('\n')) << ")\n";
    return 1;
  }
  auto body = begin + block.begin.size();
  if (doc.compare(body, end - body, content) == 0) return 0;
  if (mode == "--check") {
    std::cerr << argv[2] << ": the generated block differs from the code; run " << block.fix << "\n";
    return 1;
  }
  doc.replace(body, end - body, content);
  std::ofstream(argv[2]) << doc;
  std::cout << "updated " << argv[2] << "\n";
  return 0;
}

}  // namespace kiebot
