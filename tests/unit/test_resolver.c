/* placeholder until the tests land */
#include "config.h"
int main(void) { return 0; }
