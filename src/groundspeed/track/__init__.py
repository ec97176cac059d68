"""Following a crisis: tracker rules, duplicate collapse, timelines and peaks."""
