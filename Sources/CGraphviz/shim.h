// Graphviz's layout and rendering library (libgvc). Graphs are built by parsing
// DOT text with agmemread, so no C globals need to cross into Swift.
#include <graphviz/gvc.h>
