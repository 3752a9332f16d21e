"""What the CRM tells the modules above it, without importing them (they connect here).

`won_deals_imported`: an import created deals already won (`deals`, saved, with their
pipeline and owner loaded), inside the import's transaction; finance books their revenue
as closing a deal does. `imported_deals_removing`: an import's undo is about to delete the
deals it created (`deal_ids`), inside the undo's transaction; finance removes what it booked
for them."""

from django.dispatch import Signal

won_deals_imported = Signal()
imported_deals_removing = Signal()
