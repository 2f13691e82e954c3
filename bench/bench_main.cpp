// bench_main: placeholder.
int main() { return 0; }
