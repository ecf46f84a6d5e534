#include "relay.h"
