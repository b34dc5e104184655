"""A libzmq ROUTER (Debian's python3-zmq) standing in for the broker: receives one message, answers ACK.

Prints "PORT <n>" once bound, then "FRAMES <count> <hex of the last frame>" for the message it got.
"""
import sys

import zmq

ctx = zmq.Context()
router = ctx.socket(zmq.ROUTER)
router.setsockopt(zmq.LINGER, 1000)
port = router.bind_to_random_port("tcp://127.0.0.1")
print("PORT %d" % port, flush=True)
if not router.poll(10000):
    print("TIMEOUT", flush=True)
    sys.exit(1)
frames = router.recv_multipart()
router.send_multipart([frames[0], b"ACK"])
print("FRAMES %d %s" % (len(frames) - 1, frames[-1].hex()), flush=True)
router.close()
ctx.term()
