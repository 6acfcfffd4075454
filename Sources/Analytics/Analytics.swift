// Analytics: readers of the SQL views of SPEC section 9, created by migrations and refreshed
// by a job and the `refresh-analytics` command. Built by the analytics issue.
