"""Small lab listeners: RDP X.224 confirm, HL7 MLLP ACK, garbage, and a service that hangs."""

import argparse
import asyncio

# TPKT + X.224 Connection Confirm + RDP_NEG_RSP selecting TLS.
RDP_CONFIRM = b"\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x00\x08\x00\x01\x00\x00\x00"
HL7_ACK = (
    b"\x0bMSH|^~\\&|LAB_HL7|HOPITAL|CAREOPS|SCAN|20261129080000||ACK|1|P|2.5\rMSA|AA|1\r\x1c\x0d"
)


async def rdp(reader, writer):
    data = await reader.read(64)
    if data[:2] == b"\x03\x00":
        writer.write(RDP_CONFIRM)
        await writer.drain()
    writer.close()


async def hl7(reader, writer):
    data = await reader.read(1024)
    if data.startswith(b"\x0b"):
        writer.write(HL7_ACK)
        await writer.drain()
    writer.close()


async def garbage(reader, writer):
    writer.write(b"\x00\x13\x37garbage\xfe\xff\x01" * 4)
    await writer.drain()
    try:
        await asyncio.wait_for(reader.read(1024), 5)
    except TimeoutError:
        pass
    writer.close()


async def hang(reader, writer):
    await asyncio.sleep(3600)


async def main(args):
    servers = []
    for handler, port in (
        (rdp, args.rdp),
        (hl7, args.hl7),
        (garbage, args.garbage),
        (hang, args.hang),
    ):
        if port:
            servers.append(await asyncio.start_server(handler, args.bind, port))
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", default="127.0.0.1")
    for name in ("rdp", "hl7", "garbage", "hang"):
        parser.add_argument(f"--{name}", type=int)
    asyncio.run(main(parser.parse_args()))
