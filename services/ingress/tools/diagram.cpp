// Prints the dialog's state machine as a Mermaid diagram, generated from
// its table (src/dialog/machine/table.cpp), for ./dev diagram and docs/dialog.md.
#include <iostream>

#include "dialog/machine/table.hpp"

int main() {
  std::cout << kiebot::dialog::mermaid();
  return 0;
}
