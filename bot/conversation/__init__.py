"""The conversation pipeline: people, menus, keywords, the risk screen."""
