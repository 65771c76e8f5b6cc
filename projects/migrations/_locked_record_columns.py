"""The content columns 0005's trigger compared (Project.CONTENT_FIELDS then), for 0015 to extend and restore."""

BEFORE_KIND = [
    "enterprise_id",
    "authority_id",
    "project_number",
    "county_code",
    "name",
    "address",
    "project_type",
    "is_classified",
    "is_completed",
    "start_basis",
    "already_in_national_library",
    "total_investment",
    "total_area",
]
