/* Telegram and WhatsApp payloads and signatures: see webhook.h. */
#include "webhook.h"
