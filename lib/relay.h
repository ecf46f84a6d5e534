#ifndef OCSS_RELAY_H
#define OCSS_RELAY_H
#endif
