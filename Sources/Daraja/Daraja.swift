// Daraja client: built by the payments issue.
