/* placeholder: replaced by the signature/decision helper */

#include "unit.h"


void
suite_sig(void)
{
}
