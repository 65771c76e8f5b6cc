"""Pages of the authorities' side outside the admin console (issue 5): one module per area, thin adapters over
review's services."""
