//! search-api (in progress)
