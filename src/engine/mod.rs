//! The clock and the VUs: executors decide when iterations start; a VU runs one.
