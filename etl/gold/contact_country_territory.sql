-- Contacts per country (from gold.contact_country, worked out from phone numbers just before) and territory.
INSERT INTO gold.contact_country_territory (territory, country_iso3, region, country_name, contacts)
SELECT territory, country_iso3, max(region), max(country_name), count(*)
FROM gold.contact_country
GROUP BY territory, country_iso3
