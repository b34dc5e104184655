"""Any ZeroMQ client can submit: a libzmq DEALER sends stdin as one frame and prints the broker's answer."""
import sys

import zmq

ctx = zmq.Context()
dealer = ctx.socket(zmq.DEALER)
dealer.setsockopt(zmq.LINGER, 0)
dealer.connect(sys.argv[1])
dealer.send(sys.stdin.buffer.read())
if dealer.poll(5000):
    print("REPLY " + dealer.recv().decode("utf-8", "replace"), flush=True)
else:
    print("NOREPLY", flush=True)
dealer.close()
ctx.term()
