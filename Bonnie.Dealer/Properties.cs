using System.Runtime.Versioning;

// The dealer runs beside Cyrus IMAP: Unix file modes for the spool and libc's fsync are part of its contract.
[assembly: SupportedOSPlatform("linux")]
