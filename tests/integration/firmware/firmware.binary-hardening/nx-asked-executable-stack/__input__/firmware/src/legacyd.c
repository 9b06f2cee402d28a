#include <stdio.h>
#include <string.h>
static const char *cloud_key = "@@BINARY_AWS_KEY@@";
int main(int argc, char **argv) { char buf[64]; strcpy(buf, argc > 1 ? argv[1] : "x");
  printf("%s %s\n", buf, cloud_key); return 0; }
