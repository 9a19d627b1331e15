/* ops.h: the operator vocabulary lives with the model spec (src/model/ops.h). */
#ifndef RL_PREDICT_OPS_H
#define RL_PREDICT_OPS_H
#include "../model/ops.h"
#endif
