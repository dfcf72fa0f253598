/* Internal to the core: the command handler. Every decoded Envelope from the
 * host comes here; each command is answered on the control queue (Ack, Error
 * or its reply), Stop's Ack behind the run's data on the stream. */
#ifndef FR_COMMAND_H
#define FR_COMMAND_H

#include "fiberrig.pb.h"

void fr_command_dispatch(const fiberrig_v1_Envelope *m);

#endif
