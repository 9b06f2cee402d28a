#include <stdio.h>
#include <string.h>
/* a PEM header string as crypto libraries carry it: not a key */
static const char *pem_tag = "-----BEGIN RSA PRIVATE KEY-----";
int main(int argc, char **argv) { char buf[64]; strncpy(buf, argc > 1 ? argv[1] : "x", sizeof buf - 1);
  buf[63] = 0; printf("%s %s\n", buf, pem_tag); return 0; }
