-- A source's origin group moves onto its row (issue 16): reading a claim joins each item's source
-- already, so the group comes with it instead of costing a look-up per item in a table of its own.
-- NULL: the source is an origin on its own.
ALTER TABLE sources ADD COLUMN origin_group_id uuid;

UPDATE sources s SET origin_group_id = g.group_id FROM source_origin_groups g WHERE g.source_id = s.id;

DROP TABLE source_origin_groups;
