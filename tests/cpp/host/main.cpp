#include "mini_test.h"
MINI_TEST_MAIN()
