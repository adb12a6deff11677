"""A WebSocket client with a tiny TCP receive window that stops reading: a genuinely slow peer.

Node cannot shrink a TCP socket's receive buffer, and on loopback the kernel otherwise buffers tens
of megabytes for a reader that merely pauses. Usage:
  python3 slow-ws-client.py HOST PORT TOKEN RUN_ID
Prints OPEN and SUBSCRIBED, then reads nothing until a line arrives on stdin; then it drains the
socket and prints CLOSE <code> (or EOF if the server hung up without a close frame).
"""
import base64
import json
import os
import socket
import struct
import sys

host, port, token, run_id = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((host, port))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(
    (
        f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
)
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
if b" 101 " not in head.split(b"\r\n")[0]:
    print("REFUSED", head.split(b"\r\n")[0].decode(), flush=True)
    sys.exit(1)
print("OPEN", flush=True)

payload = json.dumps({"type": "subscribe", "runId": run_id, "after": 0}).encode()
mask = os.urandom(4)
frame = bytes([0x81, 0x80 | 126]) + struct.pack(">H", len(payload)) + mask if len(payload) > 125 else bytes([0x81, 0x80 | len(payload)]) + mask
frame += bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
s.sendall(frame)
print("SUBSCRIBED", flush=True)

sys.stdin.readline()  # the test says when to start reading again

buf = b""
close_code = None
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
    while len(buf) >= 2:
        opcode = buf[0] & 0x0F
        length = buf[1] & 0x7F
        offset = 2
        if length == 126:
            if len(buf) < 4:
                break
            length = struct.unpack(">H", buf[2:4])[0]
            offset = 4
        elif length == 127:
            if len(buf) < 10:
                break
            length = struct.unpack(">Q", buf[2:10])[0]
            offset = 10
        if len(buf) < offset + length:
            break
        body = buf[offset : offset + length]
        buf = buf[offset + length :]
        if opcode == 0x8:
            close_code = struct.unpack(">H", body[:2])[0] if len(body) >= 2 else 1005
            break
    if close_code is not None:
        break
print(f"CLOSE {close_code}" if close_code is not None else "EOF", flush=True)
