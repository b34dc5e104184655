#!/usr/bin/python3
"""The baseline: a dealer written like the original (Python) Bonnie dealer, one process per event.

Create a context, a DEALER socket, connect, send the notification, poll for the reply, exit.
Usage: python-dealer.py <endpoint> -c <Event> -p "" -u "" -m "" -f < notification.json
"""
import sys

import zmq


def main():
    endpoint = sys.argv[1]
    notification = sys.stdin.buffer.read()
    context = zmq.Context()
    dealer = context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.connect(endpoint)
    dealer.send(notification)
    poller = zmq.Poller()
    poller.register(dealer, zmq.POLLIN)
    if dict(poller.poll(1000)).get(dealer) == zmq.POLLIN:
        reply = dealer.recv()
        if reply != b"ACK":
            sys.stderr.write("python-dealer: unexpected reply %r\n" % reply)
    else:
        sys.stderr.write("python-dealer: no ACK in time\n")
    dealer.close()
    context.term()


if __name__ == "__main__":
    main()
