//! relcon's configuration file (in progress).
