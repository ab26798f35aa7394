// The program usagedb_<layer>_links (lib/CMakeLists.txt): a layer's objects and
// those of the layers below it, linked together. It does nothing; that it
// links at all is the check that no layer calls into a layer above it.
int main() { return 0; }
