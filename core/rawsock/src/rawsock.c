/*
 * rawsock: raw Ethernet (AF_PACKET) sockets for Node.js through N-API.
 *
 * One socket is bound to one interface and one EtherType. Reads are non-blocking and driven by a
 * libuv poll handle on the socket's fd, so frames reach JavaScript on the event loop without a
 * thread per socket. Frames the host itself sent (PACKET_OUTGOING) are dropped: a SLAC peer must
 * never see its own frames, nor those of another process on the same interface.
 *
 * JS API (wrapped by ../index.js):
 *   open(ifname: string, ethertype: number, onFrame: (err: Error|null, frame?: Buffer) => void)
 *       -> handle
 *   send(handle, frame: Buffer|Uint8Array) -> number of bytes sent
 *   mac(handle) -> Buffer (6 bytes)
 *   ifindex(handle) -> number
 *   close(handle)
 */
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __linux__
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

#ifndef IF_NAMESIZE
#define IF_NAMESIZE 16
#endif

#define RECV_BUFFER_SIZE 4096 /* larger than any Ethernet frame we can receive without jumbo frames */
#define MAX_FRAMES_PER_WAKEUP 64 /* bound the work done per poll callback to keep the loop fair */

typedef struct rawsock {
  int fd;
  int ifindex;
  uint8_t mac[6];
  int closing;
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async_context;
} rawsock_t;

/*
 * What JS holds: a box that outlives the socket. close() empties it, so a later call or the
 * finalizer never touches the freed socket.
 */
typedef struct handle_box {
  rawsock_t* sock;
} handle_box_t;

static void throw_error(napi_env env, const char* code, const char* message) {
  napi_throw_error(env, code, message);
}

#define NAPI_CALL(env, call)                                   \
  do {                                                         \
    if ((call) != napi_ok) {                                   \
      const napi_extended_error_info* info = NULL;             \
      napi_get_last_error_info((env), &info);                  \
      bool pending = false;                                    \
      napi_is_exception_pending((env), &pending);              \
      if (!pending)                                            \
        throw_error((env), NULL, info && info->error_message ? \
                    info->error_message : "N-API call failed");\
      return NULL;                                             \
    }                                                          \
  } while (0)

/* libuv error codes are negated errno values on Unix, so uv_err_name gives "ENODEV" etc. */
static const char* errno_name(int err) {
  return uv_err_name(-err);
}

static rawsock_t* get_handle(napi_env env, napi_value value) {
  void* data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    throw_error(env, "ERR_INVALID_ARG_TYPE", "rawsock: the first argument must be a handle returned by open()");
    return NULL;
  }
  rawsock_t* sock = ((handle_box_t*)data)->sock;
  if (sock == NULL || sock->closing) {
    throw_error(env, "ERR_SOCKET_CLOSED", "rawsock: the socket is closed");
    return NULL;
  }
  return sock;
}

static void on_poll_closed(uv_handle_t* handle) {
  rawsock_t* sock = (rawsock_t*)handle->data;
#ifdef __linux__
  if (sock->fd >= 0) close(sock->fd);
#endif
  if (sock->callback) napi_delete_reference(sock->env, sock->callback);
  if (sock->async_context) napi_async_destroy(sock->env, sock->async_context);
  free(sock);
}

static void close_socket(rawsock_t* sock) {
  if (sock->closing) return;
  sock->closing = 1;
  uv_poll_stop(&sock->poll);
  uv_close((uv_handle_t*)&sock->poll, on_poll_closed);
}

/* The external's finalizer: a socket that JS dropped without close() is closed here. */
static void finalize_handle(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  handle_box_t* box = (handle_box_t*)data;
  if (box->sock) close_socket(box->sock);
  free(box);
}

/* Calls onFrame(err, frame) inside a proper callback scope so promises settle afterwards. */
static void deliver(rawsock_t* sock, napi_value err, napi_value frame) {
  napi_env env = sock->env;
  napi_value callback, global, argv[2];
  if (napi_get_reference_value(env, sock->callback, &callback) != napi_ok || callback == NULL) return;
  napi_get_global(env, &global);
  argv[0] = err;
  argv[1] = frame;
  napi_value result;
  if (napi_make_callback(env, sock->async_context, global, callback, 2, argv, &result) != napi_ok) {
    /* An exception thrown by the JS callback must not be swallowed silently. */
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_fatal_exception(env, exception);
    }
  }
}

static void deliver_error(rawsock_t* sock, int err, const char* what) {
  napi_env env = sock->env;
  char message[256];
  snprintf(message, sizeof message, "rawsock: %s failed: %s (%s)", what, strerror(err), errno_name(err));
  napi_value code, msg, error, undef;
  napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_get_undefined(env, &undef);
  deliver(sock, error, undef);
}

static void on_readable(uv_poll_t* poll, int status, int events) {
  rawsock_t* sock = (rawsock_t*)poll->data;
  if (sock->closing) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(sock->env, &scope) != napi_ok) return;
  if (status < 0) {
    deliver_error(sock, -status, "poll");
    napi_close_handle_scope(sock->env, scope);
    return;
  }
#ifdef __linux__
  uint8_t buffer[RECV_BUFFER_SIZE];
  for (int i = 0; i < MAX_FRAMES_PER_WAKEUP && !sock->closing; i++) {
    struct sockaddr_ll from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(sock->fd, buffer, sizeof buffer, MSG_TRUNC, (struct sockaddr*)&from, &from_len);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      deliver_error(sock, errno, "recv");
      break;
    }
    if (from.sll_pkttype == PACKET_OUTGOING) continue;
    size_t len = (size_t)n > sizeof buffer ? sizeof buffer : (size_t)n;
    napi_value null_value, frame;
    napi_get_null(sock->env, &null_value);
    if (napi_create_buffer_copy(sock->env, len, buffer, NULL, &frame) != napi_ok) break;
    deliver(sock, null_value, frame);
  }
#endif
  napi_close_handle_scope(sock->env, scope);
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) {
    throw_error(env, "ERR_MISSING_ARGS", "rawsock.open(ifname, ethertype, onFrame) takes three arguments");
    return NULL;
  }
  char ifname[IF_NAMESIZE + 1];
  size_t ifname_len = 0;
  napi_valuetype type;
  napi_typeof(env, argv[0], &type);
  if (type != napi_string) {
    throw_error(env, "ERR_INVALID_ARG_TYPE", "rawsock.open: ifname must be a string");
    return NULL;
  }
  NAPI_CALL(env, napi_get_value_string_utf8(env, argv[0], ifname, sizeof ifname, &ifname_len));
  if (ifname_len == 0 || ifname_len >= IF_NAMESIZE) {
    throw_error(env, "ERR_INVALID_ARG_VALUE", "rawsock.open: ifname must be 1 to 15 characters long");
    return NULL;
  }
  uint32_t ethertype = 0;
  if (napi_get_value_uint32(env, argv[1], &ethertype) != napi_ok || ethertype == 0 || ethertype > 0xffff) {
    throw_error(env, "ERR_INVALID_ARG_VALUE", "rawsock.open: ethertype must be an integer in 1..0xffff");
    return NULL;
  }
  napi_typeof(env, argv[2], &type);
  if (type != napi_function) {
    throw_error(env, "ERR_INVALID_ARG_TYPE", "rawsock.open: onFrame must be a function");
    return NULL;
  }

#ifndef __linux__
  throw_error(env, "ENOTSUP", "rawsock: AF_PACKET raw sockets are only available on Linux");
  return NULL;
#else
  char message[512];
  const char* step = "";
  int err = 0;
  int fd = -1;
  int ifindex = (int)if_nametoindex(ifname);
  if (ifindex == 0) {
    err = errno ? errno : ENODEV;
    step = "no such interface";
    goto fail;
  }
  fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons((uint16_t)ethertype));
  if (fd < 0) {
    err = errno;
    step = "socket";
    goto fail;
  }
  struct sockaddr_ll addr;
  memset(&addr, 0, sizeof addr);
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons((uint16_t)ethertype);
  addr.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr*)&addr, sizeof addr) < 0) {
    err = errno;
    step = "bind";
    goto fail;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, ifname, ifname_len);
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
    err = errno;
    step = "SIOCGIFHWADDR";
    goto fail;
  }

  rawsock_t* sock = (rawsock_t*)calloc(1, sizeof *sock);
  if (!sock) {
    close(fd);
    throw_error(env, "ENOMEM", "rawsock: out of memory");
    return NULL;
  }
  sock->fd = fd;
  sock->ifindex = ifindex;
  memcpy(sock->mac, ifr.ifr_hwaddr.sa_data, 6);
  sock->env = env;
  napi_value resource_name;
  napi_create_string_utf8(env, "rawsock", NAPI_AUTO_LENGTH, &resource_name);
  if (napi_create_reference(env, argv[2], 1, &sock->callback) != napi_ok ||
      napi_async_init(env, NULL, resource_name, &sock->async_context) != napi_ok) {
    close(fd);
    if (sock->callback) napi_delete_reference(env, sock->callback);
    free(sock);
    throw_error(env, NULL, "rawsock: cannot set up the JS callback");
    return NULL;
  }

  uv_loop_t* loop = NULL;
  napi_get_uv_event_loop(env, &loop);
  int rc = uv_poll_init(loop, &sock->poll, fd);
  if (rc == 0) {
    sock->poll.data = sock;
    rc = uv_poll_start(&sock->poll, UV_READABLE, on_readable);
    if (rc != 0) {
      sock->fd = fd;
      close_socket(sock);
    }
  } else {
    close(fd);
    napi_delete_reference(env, sock->callback);
    napi_async_destroy(env, sock->async_context);
    free(sock);
  }
  if (rc != 0) {
    snprintf(message, sizeof message, "cannot poll raw socket on %s: %s (%s)", ifname, uv_strerror(rc), uv_err_name(rc));
    throw_error(env, uv_err_name(rc), message);
    return NULL;
  }

  napi_value handle;
  handle_box_t* box = (handle_box_t*)malloc(sizeof *box);
  if (box) box->sock = sock;
  if (!box || napi_create_external(env, box, finalize_handle, NULL, &handle) != napi_ok) {
    free(box);
    close_socket(sock);
    throw_error(env, NULL, "rawsock: cannot create the socket handle");
    return NULL;
  }
  return handle;

fail: {
  int saved = err;
  if (fd >= 0) close(fd);
  const char* hint = "";
  if (saved == EPERM || saved == EACCES)
    hint = "; needs root or CAP_NET_RAW (e.g. setcap cap_net_raw+ep $(which node))";
  else if (saved == ENODEV || saved == ENXIO)
    hint = "; is the interface name right? (see `ip link`); opening it also needs CAP_NET_RAW";
  snprintf(message, sizeof message, "cannot open raw socket on %s: %s (%s)%s", ifname,
           strerror(saved), errno_name(saved), hint);
  (void)step;
  throw_error(env, errno_name(saved), message);
  return NULL;
}
#endif
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    throw_error(env, "ERR_MISSING_ARGS", "rawsock.send(handle, frame) takes two arguments");
    return NULL;
  }
  rawsock_t* sock = get_handle(env, argv[0]);
  if (!sock) return NULL;
  void* data = NULL;
  size_t length = 0;
  bool is_typed = false;
  napi_is_typedarray(env, argv[1], &is_typed);
  if (is_typed) {
    napi_typedarray_type ta_type;
    napi_value arraybuffer;
    size_t byte_offset;
    NAPI_CALL(env, napi_get_typedarray_info(env, argv[1], &ta_type, &length, &data, &arraybuffer, &byte_offset));
    if (ta_type != napi_uint8_array) {
      throw_error(env, "ERR_INVALID_ARG_TYPE", "rawsock.send: frame must be a Buffer or Uint8Array");
      return NULL;
    }
  } else {
    throw_error(env, "ERR_INVALID_ARG_TYPE", "rawsock.send: frame must be a Buffer or Uint8Array");
    return NULL;
  }
#ifdef __linux__
  ssize_t n;
  do {
    n = send(sock->fd, data, length, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    char message[256];
    int err = errno;
    snprintf(message, sizeof message, "rawsock: send of %zu bytes failed: %s (%s)", length, strerror(err), errno_name(err));
    throw_error(env, errno_name(err), message);
    return NULL;
  }
  napi_value result;
  napi_create_uint32(env, (uint32_t)n, &result);
  return result;
#else
  throw_error(env, "ENOTSUP", "rawsock: not supported on this platform");
  return NULL;
#endif
}

static napi_value js_mac(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    throw_error(env, "ERR_MISSING_ARGS", "rawsock.mac(handle) takes one argument");
    return NULL;
  }
  rawsock_t* sock = get_handle(env, argv[0]);
  if (!sock) return NULL;
  napi_value result;
  NAPI_CALL(env, napi_create_buffer_copy(env, 6, sock->mac, NULL, &result));
  return result;
}

static napi_value js_ifindex(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    throw_error(env, "ERR_MISSING_ARGS", "rawsock.ifindex(handle) takes one argument");
    return NULL;
  }
  rawsock_t* sock = get_handle(env, argv[0]);
  if (!sock) return NULL;
  napi_value result;
  napi_create_int32(env, sock->ifindex, &result);
  return result;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void* data = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    throw_error(env, "ERR_INVALID_ARG_TYPE", "rawsock.close: the argument must be a handle returned by open()");
    return NULL;
  }
  handle_box_t* box = (handle_box_t*)data;
  if (box->sock) {
    close_socket(box->sock);
    box->sock = NULL;
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mac", NULL, js_mac, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ifindex", NULL, js_ifindex, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
