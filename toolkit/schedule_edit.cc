#include "toolkit/schedule_edit.h"

namespace faultline {

Schedule without_task(const Schedule& s, int t) {
  Schedule out = s;
  out.mutable_tasks()->DeleteSubrange(t, 1);
  out.clear_decisions();
  for (const Decision& d : s.decisions()) {
    if (int(d.task()) == t) continue;
    if (d.when_case() == Decision::kAt && int(d.at().task()) == t) continue;
    Decision nd = d;
    if (int(nd.task()) > t) nd.set_task(nd.task() - 1);
    if (nd.when_case() == Decision::kAt && int(nd.at().task()) > t) nd.mutable_at()->set_task(nd.at().task() - 1);
    *out.add_decisions() = nd;
  }
  return out;
}

}  // namespace faultline
