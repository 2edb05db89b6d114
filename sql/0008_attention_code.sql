-- What a person must fix, in a word a script can match (`storage_full`), beside the sentence:
-- NULL for the attention records that have only their kind.
ALTER TABLE attention ADD COLUMN code TEXT;
