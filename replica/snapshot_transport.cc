#include "replica/snapshot_transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/coding.h"
#include "replica/kv_protocol.h"

namespace strata::replica {

namespace {

constexpr uint32_t kRequestMagic = 0x31525353;   // "SSR1"
constexpr uint32_t kResponseMagic = 0x31415353;  // "SSA1"
constexpr uint8_t kCodeStream = 0;
constexpr uint8_t kCodeBehind = 1;
constexpr uint8_t kCodeError = 2;
constexpr size_t kRequestBytes = 12;
constexpr uint32_t kErrorBytesMax = 4096;

Status SysError(std::string_view what, int err) {
  return Status::IOError(fmt::format("{}: {}", what, std::strerror(err)));
}

void SetTimeouts(int fd, int timeout_ms) {
  timeval tv{};
  tv.tv_sec = timeout_ms / 1000;
  tv.tv_usec = (timeout_ms % 1000) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

Status WriteAll(int fd, std::string_view bytes, std::string_view peer) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return SysError(fmt::format("snapshot stream to {}: send", peer), errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Reads up to n bytes; *got == 0 only at end of stream.
Status ReadSome(int fd, char* buf, size_t n, size_t* got, std::string_view peer) {
  for (;;) {
    const ssize_t r = ::recv(fd, buf, n, 0);
    if (r >= 0) {
      *got = static_cast<size_t>(r);
      return Status::Ok();
    }
    if (errno == EINTR) continue;
    return SysError(fmt::format("snapshot stream from {}: recv", peer), errno);
  }
}

Status ReadExactly(int fd, char* buf, size_t n, std::string_view peer) {
  while (n > 0) {
    size_t got = 0;
    STRATA_RETURN_IF_ERROR(ReadSome(fd, buf, n, &got, peer));
    if (got == 0) {
      return Status::IOError(fmt::format("snapshot stream from {}: connection closed early", peer));
    }
    buf += got;
    n -= got;
  }
  return Status::Ok();
}

Status ResolveIpv4(const std::string& address, sockaddr_in* addr) {
  std::string host;
  uint16_t port = 0;
  STRATA_RETURN_IF_ERROR(ParseAddress(address, &host, &port));
  *addr = sockaddr_in{};
  addr->sin_family = AF_INET;
  addr->sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr->sin_addr) != 1) {
    return Status::InvalidArgument(fmt::format("snapshot address {:?}: want IPv4:PORT", address));
  }
  return Status::Ok();
}

}  // namespace

// --- server ------------------------------------------------------------------

Status TcpSnapshotServer::Start(const std::string& address, StreamServer server,
                                const TcpSnapshotOptions& options,
                                std::unique_ptr<TcpSnapshotServer>* out) {
  sockaddr_in addr{};
  STRATA_RETURN_IF_ERROR(ResolveIpv4(address, &addr));
  std::unique_ptr<TcpSnapshotServer> self(new TcpSnapshotServer());
  self->address_ = address;
  self->server_ = std::move(server);
  self->options_ = options;
  self->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (self->listen_fd_ < 0) return SysError("snapshot server: socket", errno);
  const int one = 1;
  ::setsockopt(self->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(self->listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return SysError(fmt::format("snapshot server: bind {}", address), errno);
  }
  if (::listen(self->listen_fd_, 16) != 0) {
    return SysError(fmt::format("snapshot server: listen {}", address), errno);
  }
  if (::pipe2(self->wake_fds_, O_CLOEXEC) != 0) return SysError("snapshot server: pipe", errno);
  self->thread_ = std::thread([s = self.get()] { s->Run(); });
  *out = std::move(self);
  return Status::Ok();
}

TcpSnapshotServer::~TcpSnapshotServer() {
  if (thread_.joinable()) {
    const char byte = 1;
    while (::write(wake_fds_[1], &byte, 1) < 0 && errno == EINTR) {
    }
    const int serving = serving_fd_.load();
    if (serving >= 0) ::shutdown(serving, SHUT_RDWR);  // abort a stream in progress
    thread_.join();
  }
  for (int fd : {listen_fd_, wake_fds_[0], wake_fds_[1]}) {
    if (fd >= 0) ::close(fd);
  }
}

void TcpSnapshotServer::Run() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fds_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    SetTimeouts(fd, options_.io_timeout_ms);
    serving_fd_.store(fd);
    // A stopping server may have missed this fd: check the wake pipe again.
    pollfd wake{wake_fds_[0], POLLIN, 0};
    if (::poll(&wake, 1, 0) == 0) Serve(fd);
    serving_fd_.store(-1);
    ::close(fd);
  }
}

void TcpSnapshotServer::Serve(int fd) {
  char request[kRequestBytes];
  if (!ReadExactly(fd, request, sizeof(request), "client").ok()) return;
  if (DecodeFixed32(request) != kRequestMagic) return;  // not ours: hang up
  const uint64_t min_index = DecodeFixed64(request + 4);
  bool started = false;
  uint64_t applied = 0;
  const Status s = server_(min_index, &applied, [&](std::string_view bytes) -> Status {
    if (!started) {
      std::string header;
      PutFixed32(&header, kResponseMagic);
      header.push_back(static_cast<char>(kCodeStream));
      STRATA_RETURN_IF_ERROR(WriteAll(fd, header, "client"));
      started = true;
    }
    return WriteAll(fd, bytes, "client");
  });
  if (started) {
    // A failed stream just ends: the reader's checks reject a short stream.
    if (s.ok()) served_.fetch_add(1);
    return;
  }
  std::string reply;
  PutFixed32(&reply, kResponseMagic);
  if (s.IsBusy()) {
    reply.push_back(static_cast<char>(kCodeBehind));
    PutFixed64(&reply, applied);
  } else {
    const std::string message = s.ok() ? "empty stream" : s.ToString();
    reply.push_back(static_cast<char>(kCodeError));
    PutFixed32(&reply, static_cast<uint32_t>(std::min<size_t>(message.size(), kErrorBytesMax)));
    reply.append(message.substr(0, kErrorBytesMax));
  }
  (void)WriteAll(fd, reply, "client");
}

// --- client ------------------------------------------------------------------

Status TcpSnapshotTransport::Fetch(
    const std::string& preferred, uint64_t min_index,
    const std::function<Status(const snapshot::ByteSource&)>& consume) {
  std::vector<std::string> order;
  if (!preferred.empty()) order.push_back(preferred);
  for (const std::string& m : members_) {
    if (m != preferred) order.push_back(m);
  }
  if (order.empty()) return Status::InvalidArgument("snapshot fetch: no member to ask");
  std::string errors;
  for (const std::string& address : order) {
    const Status s = FetchFrom(address, min_index, consume);
    if (s.ok()) return s;
    errors += fmt::format("{}{}", errors.empty() ? "" : "; ", s.ToString());
  }
  return Status::IOError(
      fmt::format("no member served a snapshot at raft index >= {}: {}", min_index, errors));
}

Status TcpSnapshotTransport::FetchFrom(
    const std::string& address, uint64_t min_index,
    const std::function<Status(const snapshot::ByteSource&)>& consume) {
  sockaddr_in addr{};
  STRATA_RETURN_IF_ERROR(ResolveIpv4(address, &addr));
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return SysError("snapshot fetch: socket", errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS)
      return SysError(fmt::format("snapshot fetch: connect {}", address), errno);
    pollfd p{fd, POLLOUT, 0};
    const int ready = ::poll(&p, 1, options_.io_timeout_ms);
    int err = 0;
    socklen_t len = sizeof(err);
    if (ready <= 0)
      return Status::IOError(fmt::format("snapshot fetch: connect {}: timed out", address));
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return SysError(fmt::format("snapshot fetch: connect {}", address), err);
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  SetTimeouts(fd, options_.io_timeout_ms);

  std::string request;
  PutFixed32(&request, kRequestMagic);
  PutFixed64(&request, min_index);
  STRATA_RETURN_IF_ERROR(WriteAll(fd, request, address));
  char header[5];
  STRATA_RETURN_IF_ERROR(ReadExactly(fd, header, sizeof(header), address));
  if (DecodeFixed32(header) != kResponseMagic) {
    return Status::Corruption(
        fmt::format("snapshot fetch from {}: not a snapshot service", address));
  }
  switch (static_cast<uint8_t>(header[4])) {
    case kCodeStream:
      return consume([fd, &address](char* buf, size_t n, size_t* got) {
        return ReadSome(fd, buf, n, got, address);
      });
    case kCodeBehind: {
      char applied[8];
      STRATA_RETURN_IF_ERROR(ReadExactly(fd, applied, sizeof(applied), address));
      return Status::Busy(fmt::format("{} has applied raft index {} only, {} wanted", address,
                                      DecodeFixed64(applied), min_index));
    }
    case kCodeError: {
      char len_bytes[4];
      STRATA_RETURN_IF_ERROR(ReadExactly(fd, len_bytes, sizeof(len_bytes), address));
      const uint32_t len = DecodeFixed32(len_bytes);
      if (len > kErrorBytesMax) {
        return Status::Corruption(
            fmt::format("snapshot fetch from {}: error of {} bytes", address, len));
      }
      std::string message(len, '\0');
      STRATA_RETURN_IF_ERROR(ReadExactly(fd, message.data(), len, address));
      return Status::IOError(fmt::format("{} could not serve: {}", address, message));
    }
    default:
      return Status::Corruption(fmt::format("snapshot fetch from {}: unknown reply code {}",
                                            address, static_cast<int>(header[4])));
  }
}

}  // namespace strata::replica
