"""Relations between tasks: blocks, relates to, duplicates; across projects for those who see both."""
