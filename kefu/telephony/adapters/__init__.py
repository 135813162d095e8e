"""PBX adapters: they turn what a PBX says into kefu's normalized call events (docs/telephony.md).

- `asterisk`: AMI events (live, over TCP, or a recorded trace) and the `queue_log` file;
- `freeswitch`: mod_callcenter events over the event socket (ESL), live or recorded;
- `cti`: click-to-call — kefu asks the PBX to place an outbound call (AMI Originate);
- `cdr`: a CDR CSV export (Asterisk Master.csv columns) — no ring times: K14 falls back;
- `link`: the reconnecting TCP client both live adapters use; a lost link is a `pbx.link_lost`
  event (an out-of-service period for K5) and the reconnect a `pbx.link_restored`.

Event ids are made from the PBX's own identifiers and times, so a trace replayed twice, or events
sent again after a reconnect, are duplicates that the ingest drops.
"""
