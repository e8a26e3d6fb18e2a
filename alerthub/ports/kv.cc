#include "alerthub/ports/kv.h"

#include <utility>

namespace alerthub {

void Kv::WriteBehind(std::vector<KvWrite> writes) {
  for (KvWrite& w : writes) {
    switch (w.kind) {
      case KvWrite::Kind::kSet:
        (void)Set(w.key, w.value, w.ttl);
        break;
      case KvWrite::Kind::kPublish:
        (void)Publish(w.key, w.value);
        break;
    }
  }
}

}  // namespace alerthub
