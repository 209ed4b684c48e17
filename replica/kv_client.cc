#include "replica/kv_client.h"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "core/coding.h"

namespace strata::replica {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kAttemptTimeoutMs = 2000;  // one round trip to one node
constexpr int kRoundPauseMs = 25;        // after every node of a round said no

int64_t MsUntil(Clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
}

// Waits for fd to become ready for `events` within the deadline.
bool WaitFd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const int64_t left = MsUntil(deadline);
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int rv = ::poll(&p, 1, static_cast<int>(left));
    if (rv > 0) return true;
    if (rv == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

KvClient::KvClient(KvClientOptions options) : options_(std::move(options)) {
  while (options_.client_id == 0) {
    std::random_device rd;
    options_.client_id = (uint64_t{rd()} << 32) | rd();
  }
}

KvClient::~KvClient() { Disconnect(); }

void KvClient::Disconnect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  fd_address_.clear();
}

Status KvClient::RoundTrip(const std::string& address, const KvRequest& request, int timeout_ms,
                           KvResponse* response) {
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  if (fd_ < 0 || fd_address_ != address) {
    Disconnect();
    std::string host;
    uint16_t port = 0;
    STRATA_RETURN_IF_ERROR(ParseAddress(address, &host, &port));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
      return Status::InvalidArgument(fmt::format("address {:?}: not an IPv4 address", address));
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::IOError(fmt::format("socket: {}", std::strerror(errno)));
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 &&
        errno != EINPROGRESS) {
      const int err = errno;
      ::close(fd);
      return Status::IOError(fmt::format("{}: connect: {}", address, std::strerror(err)));
    }
    int err = 0;
    socklen_t len = sizeof(err);
    if (!WaitFd(fd, POLLOUT, deadline) || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
        err != 0) {
      ::close(fd);
      return Status::IOError(
          fmt::format("{}: connect: {}", address, err != 0 ? std::strerror(err) : "timed out"));
    }
    fd_ = fd;
    fd_address_ = address;
  }
  const std::string frame = EncodeRequest(request);
  size_t sent = 0;
  while (sent < frame.size()) {
    const ssize_t n = ::send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFd(fd_, POLLOUT, deadline)) break;
    } else {
      break;
    }
  }
  std::string in;
  uint32_t body_bytes = 0;
  bool have_length = false;
  while (sent == frame.size()) {
    if (!have_length && in.size() >= 4) {
      body_bytes = DecodeFixed32(in.data());
      if (body_bytes > kMaxFrameBytes) break;
      have_length = true;
    }
    if (have_length && in.size() >= 4 + size_t{body_bytes}) {
      Status s = DecodeResponse(std::string_view(in).substr(4, body_bytes), response);
      if (!s.ok() || in.size() != 4 + size_t{body_bytes}) break;
      return Status::Ok();
    }
    char buf[64 * 1024];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      in.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFd(fd_, POLLIN, deadline)) break;
    } else {
      break;
    }
  }
  Disconnect();
  return Status::IOError(fmt::format("{}: no answer", address));
}

Status KvClient::Call(KvRequest request, KvResponse* response) {
  if (options_.cluster.empty()) return Status::InvalidArgument("--cluster is empty");
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(options_.timeout_ms);
  size_t failures_in_round = 0;
  std::string last_error = "no attempt";
  while (MsUntil(deadline) > 0) {
    if (target_.empty()) {
      target_ = options_.cluster[next_index_ % options_.cluster.size()];
      ++next_index_;
    }
    const int attempt_ms =
        static_cast<int>(std::min<int64_t>(MsUntil(deadline), kAttemptTimeoutMs));
    Status s = RoundTrip(target_, request, attempt_ms, response);
    if (s.IsInvalidArgument()) return s;
    if (s.ok()) {
      switch (response->code) {
        case KvCode::kOk:
          return Status::Ok();
        case KvCode::kNotFound:
          return Status::NotFound(request.key);
        case KvCode::kError:
          return Status::InvalidArgument(response->payload);
        case KvCode::kRedirect:
          target_ = response->payload;
          ++failures_in_round;  // a redirect loop still pauses once a round
          last_error = "redirected to " + target_;
          break;
        case KvCode::kRetry:
          target_.clear();
          ++failures_in_round;
          last_error = response->payload;
          break;
      }
    } else {
      target_.clear();
      ++failures_in_round;
      last_error = s.ToString();
    }
    if (failures_in_round >= options_.cluster.size()) {
      failures_in_round = 0;
      const int64_t pause = std::min<int64_t>(kRoundPauseMs, MsUntil(deadline));
      if (pause > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause));
    }
  }
  return Status::Busy(
      fmt::format("no leader answered within {} ms (last: {})", options_.timeout_ms, last_error));
}

Status KvClient::Put(std::string_view key, std::string_view value) {
  KvRequest r{KvOp::kPut, options_.client_id, next_request_id_++, std::string(key),
              std::string(value)};
  KvResponse resp;
  return Call(std::move(r), &resp);
}

Status KvClient::Delete(std::string_view key) {
  KvRequest r{KvOp::kDelete, options_.client_id, next_request_id_++, std::string(key), ""};
  KvResponse resp;
  return Call(std::move(r), &resp);
}

Status KvClient::Get(std::string_view key, std::string* value) {
  KvRequest r{KvOp::kGet, options_.client_id, 0, std::string(key), ""};
  KvResponse resp;
  STRATA_RETURN_IF_ERROR(Call(std::move(r), &resp));
  *value = std::move(resp.payload);
  return Status::Ok();
}

Status KvClient::Scan(std::string_view start, const std::function<void(const KvPair&)>& fn) {
  std::string from(start);
  for (;;) {
    KvRequest r{KvOp::kScan, options_.client_id, 0, from, ""};
    PutFixed32(&r.value, kScanPageMax);
    KvResponse resp;
    STRATA_RETURN_IF_ERROR(Call(std::move(r), &resp));
    std::vector<KvPair> pairs;
    bool more = false;
    STRATA_RETURN_IF_ERROR(DecodeScanPayload(resp.payload, &pairs, &more));
    for (const KvPair& p : pairs) fn(p);
    if (!more || pairs.empty()) return Status::Ok();
    from = pairs.back().key;
    from.push_back('\0');  // the next key after the page's last
  }
}

Status KvClient::NodeStatus(const std::string& address, std::string* text) {
  KvRequest r{KvOp::kStatus, 0, 0, "", ""};
  KvResponse resp;
  STRATA_RETURN_IF_ERROR(RoundTrip(address, r, options_.timeout_ms, &resp));
  if (resp.code != KvCode::kOk) return Status::IOError(resp.payload);
  *text = std::move(resp.payload);
  return Status::Ok();
}

}  // namespace strata::replica
