"""Cases handed to hotline staff: the case store, handoff rules, outbound sending, hours, sweeper."""
