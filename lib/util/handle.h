// Handle<Owner, Release>: a move-only hold on an object, let go of
// (Release{}(owner)) when the handle goes or is assigned over. Part::Pin (a
// part's data kept in memory) and PartitionRollup::Hold (a rollup's
// sections kept) are two:
//
//   class Part {
//     struct Unpin { void operator()(const Part* part) const; };  // calls part->unpin()
//    public:
//     using Pin = Handle<Part, Unpin>;
//     ...  return Pin(this);  // only Part makes a non-empty one
//   };
//
// An empty handle (default-constructed or moved from) holds nothing. It
// does not own the object: whoever holds keeps the object alive until the
// handle is gone.
//
// Thread-safety: a value; Release synchronizes with the owner's other users.
#ifndef USAGEDB_UTIL_HANDLE_H_
#define USAGEDB_UTIL_HANDLE_H_

#include <utility>

namespace usagedb {

template <typename Owner, typename Release>
class Handle {
 public:
  Handle() = default;
  Handle(Handle&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      owner_ = std::exchange(other.owner_, nullptr);
    }
    return *this;
  }
  ~Handle() { reset(); }

  // Whether it holds an object.
  explicit operator bool() const { return owner_ != nullptr; }

 private:
  friend Owner;
  explicit Handle(const Owner* owner) : owner_(owner) {}
  void reset() {
    if (owner_ != nullptr) Release{}(owner_);
    owner_ = nullptr;
  }

  const Owner* owner_ = nullptr;
};

}  // namespace usagedb

#endif  // USAGEDB_UTIL_HANDLE_H_
