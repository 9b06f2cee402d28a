/* nl-camd: stand-in for the camera daemon of the example firmware (built with hardening flags). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    char config[256];
    const char *path = argc > 2 ? argv[2] : "/etc/nordlicht/camd.json";
    strncpy(config, path, sizeof(config) - 1);
    config[sizeof(config) - 1] = '\0';
    printf("nl-camd 2.4.1 starting with %s\n", config);
    return 0;
}
