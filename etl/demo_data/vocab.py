"""Word lists and message templates the generator draws from."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "ZA": ("Thabo", "Sipho", "Lerato", "Naledi", "Pieter", "Johan", "Anele", "Zanele", "Mandla", "Karabo",
           "Lindiwe", "Themba", "Annelie", "Ruan", "Priya", "Kagiso", "Nomvula", "Bongani", "Michelle",
           "Tshepo", "Busisiwe", "Willem", "Fatima", "Jabu", "Carmen"),
    "KE": ("Wanjiru", "Otieno", "Kamau", "Achieng", "Mwangi", "Njeri", "Kiprono", "Akinyi", "Wambui",
           "Omondi", "Chebet", "Kibet", "Nyambura", "Odhiambo", "Mumbua", "Faith", "Brian", "Grace", "Kevin",
           "Mercy", "Dennis", "Esther", "Collins", "Joy", "Mohammed"),
    "UG": ("Okello", "Nakato", "Mugisha", "Namubiru", "Ssemwanga", "Achan", "Kato", "Nansubuga", "Tumusiime",
           "Atim", "Ronald", "Patience", "Isaac", "Prossy", "Emmanuel"),
    "TZ": ("Neema", "Baraka", "Juma", "Rehema", "Amani", "Zawadi", "Hamisi", "Upendo", "Salim", "Imani",
           "Joseph", "Halima", "Elia", "Mwanaidi", "Frank"),
    "NG": ("Chinedu", "Ngozi", "Adebayo", "Oluwaseun", "Emeka", "Aisha", "Ifeoma", "Tunde", "Funmilayo",
           "Ibrahim", "Chiamaka", "Yusuf", "Kelechi", "Folake", "Babatunde", "Amina", "Obinna", "Zainab",
           "Segun", "Blessing", "Uche", "Hauwa", "Damilola", "Musa", "Temitope"),
    "GH": ("Kwame", "Ama", "Kofi", "Akosua", "Yaw", "Abena", "Kojo", "Efua", "Kwabena", "Adwoa", "Nana",
           "Esi", "Kwesi", "Afia", "Samuel"),
    "DE": ("Lukas", "Anna", "Jonas", "Lena", "Felix", "Sophie", "Maximilian", "Marie", "Jürgen", "Katrin",
           "Stefan", "Sabine", "Tobias", "Julia", "Matthias", "Claudia", "Sebastian", "Jörg", "Andrea",
           "Florian"),
    "FR": ("Camille", "Lucas", "Léa", "Hugo", "Chloé", "Louis", "Manon", "Théo", "Inès", "Nicolas",
           "Élodie", "Julien", "Céline", "Antoine", "Mathilde", "Sébastien", "Aurélie", "Pierre"),
    "NL": ("Daan", "Sanne", "Bram", "Lotte", "Sem", "Eva", "Thijs", "Femke", "Ruben", "Anouk", "Joost",
           "Marloes", "Pieter", "Iris", "Wouter"),
    "IE": ("Aoife", "Seán", "Niamh", "Conor", "Siobhán", "Ciarán", "Róisín", "Patrick", "Orla", "Declan",
           "Sinéad", "Cathal", "Mary", "Eoin", "Gráinne"),
    "GB": ("Oliver", "Amelia", "George", "Isla", "Harry", "Olivia", "Jack", "Emily", "James", "Charlotte",
           "Thomas", "Sophie", "William", "Jessica", "Daniel", "Hannah", "Mohammed", "Priya", "Rhys", "Catherine",
           "John", "Stephen", "Rachel", "Aaron", "Zoë"),
    "US": ("Michael", "Jennifer", "David", "Jessica", "Christopher", "Ashley", "Matthew", "Sarah", "Joshua",
           "Emily", "Andrew", "Megan", "Ryan", "Lauren", "Brandon", "Amanda", "Jose", "Maria", "Tyler",
           "Nicole", "Kevin", "Stephanie", "John", "Katherine", "Steven"),
    "CA": ("Liam", "Emma", "Noah", "Chloé", "Ethan", "Olivia", "Benjamin", "Ava", "Mathieu", "Isabelle",
           "Connor", "Sarah", "Gabriel", "Jessica", "Alexandre", "Madison", "Owen", "Avery", "Jon", "Kate"),
}

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "ZA": ("Nkosi", "Dlamini", "van der Merwe", "Botha", "Naidoo", "Mokoena", "Khumalo", "Pretorius",
           "Ndlovu", "Mahlangu", "Smith", "Pillay", "du Plessis", "Mabaso", "Venter", "Molefe", "Sithole",
           "Coetzee", "Zulu", "Govender", "Mthembu", "Jacobs", "Nel", "Maseko", "Adams"),
    "KE": ("Kamau", "Otieno", "Mwangi", "Wanjiku", "Ochieng", "Kariuki", "Njoroge", "Kiprotich", "Mutua",
           "Odhiambo", "Wafula", "Chege", "Kimani", "Onyango", "Muthoni", "Gitau", "Rotich", "Owino", "Macharia",
           "Nyaga"),
    "UG": ("Okello", "Mugisha", "Namutebi", "Ssebunya", "Byaruhanga", "Kato", "Nabirye", "Tumwine", "Opio",
           "Kiggundu", "Musoke", "Asiimwe"),
    "TZ": ("Mushi", "Massawe", "Mrema", "Kimaro", "Mwakyusa", "Swai", "Lyimo", "Shirima", "Mbwambo",
           "Temba", "Magesa", "Komba"),
    "NG": ("Okafor", "Adeyemi", "Bello", "Okonkwo", "Ibrahim", "Adebayo", "Eze", "Nwosu", "Abubakar",
           "Ogunleye", "Olawale", "Chukwu", "Balogun", "Danjuma", "Obi", "Afolabi", "Umar", "Nnamdi",
           "Oyelaran", "Akande"),
    "GH": ("Mensah", "Owusu", "Boateng", "Asante", "Osei", "Appiah", "Agyeman", "Ofori", "Adjei", "Amoah",
           "Quaye", "Sarpong", "Darko", "Nkansah"),
    "DE": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
           "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Braun", "Zimmermann"),
    "FR": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
           "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "Fontaine", "Rousseau", "Girard"),
    "NL": ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit", "Meijer",
           "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks"),
    "IE": ("Murphy", "Kelly", "O'Sullivan", "Walsh", "Smith", "O'Brien", "Byrne", "Ryan", "O'Connor",
           "O'Neill", "Doyle", "McCarthy", "Gallagher", "Ó Briain", "Kennedy", "Lynch"),
    "GB": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
           "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Khan",
           "Hughes", "Clarke", "Ahmed", "Lewis"),
    "US": ("Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Anderson",
           "Taylor", "Thomas", "Moore", "Jackson", "Lee", "Harris", "Clark", "Nguyen", "Walker", "Young",
           "Allen", "King", "Wright", "Scott", "Hill"),
    "CA": ("Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Smith", "Brown", "Wilson", "MacDonald",
           "Campbell", "Martin", "Lee", "Gauthier", "Morin", "Anderson", "Chen", "Singh", "Leblanc"),
}

# spelling variants a second CRM entry for the same person tends to carry
NAME_VARIANTS: dict[str, str] = {
    "John": "Jon", "Jon": "John", "Mohammed": "Mohamed", "Catherine": "Katherine", "Katherine": "Kathryn",
    "Stephen": "Steven", "Steven": "Stephen", "Sean": "Shaun", "Seán": "Sean", "Zoë": "Zoe",
    "Chloé": "Chloe", "Léa": "Lea", "Jürgen": "Juergen", "Jörg": "Joerg", "Müller": "Mueller",
    "Sipho": "Siphu", "Oluwaseun": "Seun", "Babatunde": "Tunde", "Kate": "Katie", "Isabelle": "Isabel",
    "Mary": "Marie", "Michael": "Micheal", "Jessica": "Jessika", "Aisha": "Ayesha", "Ibrahim": "Ibraheem",
    "Amina": "Aminah", "Chinedu": "Chinedum", "Patrick": "Pat", "Nicolas": "Nicholas", "Mathieu": "Matthieu",
}

JOB_TITLES: tuple[str, ...] = (
    "Chief Executive Officer", "Chief Financial Officer", "Chief Technology Officer", "IT Manager",
    "Head of IT", "Network Engineer", "Procurement Manager", "Finance Manager", "Accounts Payable Clerk",
    "Operations Director", "Office Manager", "Systems Administrator", "Head of Operations",
    "Security Officer", "Managing Director", "Facilities Manager", "Billing Contact")

# brand words that feel local to each region, plus generic ones used everywhere
REGION_BRANDS: dict[str, tuple[str, ...]] = {
    "ZA": ("Cape", "Karoo", "Protea", "Highveld", "Umhlanga", "Drakensberg", "Limpopo", "Ubuntu", "Fynbos",
           "Table Bay", "Kalahari", "Soweto", "Stellenbosch", "Boland", "Marula", "Vaal", "Zambezi", "Indaba"),
    "EA": ("Kilimanjaro", "Serengeti", "Rift Valley", "Jambo", "Tsavo", "Nile", "Victoria", "Zanzibar",
           "Savannah", "Mara", "Baobab", "Amani", "Simba", "Kenyatta", "Pwani", "Meru", "Rwenzori", "Tana"),
    "WA": ("Eko", "Oduduwa", "Niger Delta", "Sahel", "Adinkra", "Ashanti", "Volta", "Harmattan", "Kente",
           "Lekki", "Ikoyi", "Jos Plateau", "Benin Gulf", "Osun", "Kaduna", "Tema", "Kumasi", "Calabar"),
    "EU": ("Alpen", "Rhein", "Nordlicht", "Lumière", "Zeeland", "Hanse", "Atlantique", "Delta", "Tulip",
           "Emerald", "Liffey", "Shannon", "Rhône", "Bavaria", "Provence", "Schelde", "Elbe", "Loire"),
    "UK": ("Thames", "Pennine", "Albion", "Cotswold", "Highland", "Mersey", "Windsor", "Kestrel",
           "Pembroke", "Severn", "Chiltern", "Tyne", "Humber", "Lakeland", "Wessex", "Solent", "Avon", "Mendip"),
    "NA": ("Pioneer", "Great Lakes", "Cascade", "Redwood", "Liberty", "Frontier", "Maple", "Prairie",
           "Hudson", "Keystone", "Sierra", "Rocky Ridge", "Bayou", "Yukon", "Atlantic", "Appalachian",
           "Golden Gate", "Lone Star"),
}
GENERIC_BRANDS: tuple[str, ...] = (
    "Apex", "Nova", "Prime", "Vertex", "Orion", "Atlas", "Crest", "Horizon", "Quantum", "Silverline",
    "Bright", "Clearwater", "Swift", "Summit", "Evergreen", "Blue Ocean", "Northstar", "Greenfield",
    "Ironbridge", "Keystone", "Lighthouse", "Meridian Point", "Pinnacle", "Riverbend", "Sapphire",
    "Sterling", "Trident", "Unity", "Zenith Peak", "Beacon", "Cornerstone", "Falcon", "Granite", "Harbour",
    "Ivory", "Juniper", "Lakeside", "Momentum", "Oakwood", "Pathfinder", "Radiant", "Sunrise", "Tristar",
    "Vanguard", "Westbrook", "Crescent", "Fusion", "Halo", "Infinity", "Kinetic", "Lumen", "Matrix",
    "Nimbus", "Optima", "Paragon", "Catalyst", "Solstice", "Vista", "Aurora", "Equinox")

INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "Telecommunications": ("Telecom", "Networks", "Communications", "Mobile", "Broadband", "Connect"),
    "Financial Services": ("Fintech", "Capital", "Finance", "Bank", "Insurance", "Microfinance", "Payments"),
    "Healthcare": ("Health", "Medical", "Clinics", "Pharma", "Diagnostics", "Hospitals"),
    "Retail": ("Retail", "Stores", "Supermarkets", "Fashion", "Trading", "Outlets"),
    "Manufacturing": ("Manufacturing", "Industries", "Steel", "Plastics", "Foods", "Engineering"),
    "Logistics": ("Logistics", "Freight", "Transport", "Couriers", "Shipping", "Haulage"),
    "Public Sector": ("Municipal Services", "Water Board", "Transport Authority", "Health District",
                      "Revenue Service", "Housing Agency"),
    "Media": ("Media", "Broadcasting", "Studios", "Publishing", "Digital", "Radio"),
    "Energy": ("Energy", "Power", "Solar", "Utilities", "Petroleum", "Renewables"),
    "Education": ("Academy", "College", "Schools", "Learning", "University", "Institute"),
    "Hospitality": ("Hotels", "Resorts", "Lodges", "Hospitality", "Travel", "Catering"),
    "Agriculture": ("Agri", "Farms", "Growers", "Agro", "Dairy", "Seeds"),
}

LEGAL_SUFFIXES: dict[str, tuple[str, ...]] = {
    "ZA": ("(Pty) Ltd",), "KE": ("Ltd", "Limited"), "UG": ("Ltd", "Limited"), "TZ": ("Ltd", "Limited"),
    "NG": ("Ltd", "Limited", "Plc"), "GH": ("Ltd", "Limited"), "DE": ("GmbH", "AG"), "FR": ("SAS", "SA"),
    "NL": ("B.V.",), "IE": ("Ltd", "DAC"), "GB": ("Ltd", "plc", "Limited"), "US": ("Inc.", "LLC", "Corp."),
    "CA": ("Inc.", "Ltd."),
}
COUNTRY_TLD: dict[str, str] = {
    "ZA": "co.za", "KE": "co.ke", "UG": "co.ug", "TZ": "co.tz", "NG": "com.ng", "GH": "com.gh", "DE": "de",
    "FR": "fr", "NL": "nl", "IE": "ie", "GB": "co.uk", "US": "com", "CA": "ca",
}
PERSONAL_EMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com")


@lru_cache(maxsize=65_536)
def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only, for email local parts and domains."""
    text = text.replace("ü", "ue").replace("ö", "oe").replace("ä", "ae").replace("ß", "ss")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in plain.lower() if ch.isalnum())


TICKET_CATEGORIES: tuple[str, ...] = (
    "billing", "outage", "configuration", "pricing", "refund", "onboarding", "performance",
    "account_change", "hardware", "security")
TICKET_CATEGORY_WEIGHTS = (0.18, 0.1, 0.16, 0.06, 0.06, 0.08, 0.12, 0.1, 0.08, 0.06)
# severity weights P1..P4 per category: outages and security skew urgent
TICKET_SEVERITY_WEIGHTS: dict[str, tuple[float, float, float, float]] = {
    "billing": (0.01, 0.07, 0.42, 0.5), "outage": (0.35, 0.4, 0.2, 0.05),
    "configuration": (0.03, 0.17, 0.5, 0.3), "pricing": (0.0, 0.05, 0.35, 0.6),
    "refund": (0.0, 0.1, 0.45, 0.45), "onboarding": (0.02, 0.13, 0.5, 0.35),
    "performance": (0.08, 0.32, 0.45, 0.15), "account_change": (0.0, 0.05, 0.4, 0.55),
    "hardware": (0.05, 0.25, 0.45, 0.25), "security": (0.2, 0.35, 0.35, 0.1),
}
TICKET_SUBJECTS: dict[str, tuple[str, ...]] = {
    "billing": ("Invoice {invoice} amount looks wrong", "Charged twice for {product}",
                "Please resend invoice {invoice}", "VAT missing on invoice {invoice}, please correct"),
    "outage": ("{product} down since this morning", "Complete loss of service at head office",
               "Intermittent drops on {product}, urgent", "Site offline - \"no carrier\" on the router"),
    "configuration": ("Need help configuring {product}", "Change firewall rule for port 443",
                      "DNS records for our domain, please update", "VPN tunnel will not come up"),
    "pricing": ("Quote request for upgrading {product}", "Why did the price of {product} go up?",
                "Discount for annual commitment, possible?"),
    "refund": ("Refund for downtime last week", "Request refund of duplicate payment",
               "Credit note for cancelled {product}"),
    "onboarding": ("Welcome pack and portal access", "Installation date for {product}",
                   "Training session for our IT team"),
    "performance": ("{product} very slow in the afternoons", "High latency to cloud servers",
                    "Packet loss on {product}, see attached traceroute"),
    "account_change": ("Update billing contact", "Add new site to our account", "Change of company address"),
    "hardware": ("Router keeps rebooting", "Replace faulty {product}", "Power supply failure on edge device"),
    "security": ("Suspicious login attempts on portal", "Phishing email pretending to be you",
                 "Firewall blocked legitimate traffic, \"policy 12\""),
}
TICKET_CHANNELS: tuple[str, ...] = ("email", "phone", "portal", "chat", "whatsapp")
TICKET_CHANNEL_WEIGHTS = (0.35, 0.25, 0.2, 0.1, 0.1)

CHAT_TOPICS: tuple[str, ...] = ("refund", "pricing", "error", "outage", "invoice", "upgrade", "onboarding")
CHAT_TOPIC_WEIGHTS = (0.12, 0.16, 0.16, 0.1, 0.2, 0.14, 0.12)
# opening messages by (topic, tone); tone 0 = negative, 1 = positive
CHAT_OPENERS: dict[tuple[str, int], tuple[str, ...]] = {
    ("refund", 0): ("Hi, I was charged for {product} after cancelling. I want a refund, this is unacceptable.",
                    "Still waiting for my refund of {amount}. It's been weeks, why so slow?",
                    "You billed us twice, again. Refund the duplicate now please."),
    ("refund", 1): ("Hello, could you please check if the refund for {amount} has been processed?",
                    "Hi there, quick one: how long does a refund usually take? Thanks!"),
    ("pricing", 0): ("Why has the price of {product} gone up? Nobody told us, that's not fair.",
                     "Your competitors are much cheaper. What can you offer before we move?"),
    ("pricing", 1): ("Hi, what would it cost to add {product} for our second office?",
                     "Good evening, can you send me pricing for the \"Business\" bundle?",
                     "Hello, do you have a discount if we sign for 24 months?"),
    ("error", 0): ("The portal keeps showing error {error} when I log in. Nothing works!",
                   "Getting \"{error}\" on {product} again. Third time this week, very frustrating."),
    ("error", 1): ("Hi, small issue: I see error {error} on the dashboard. Any idea?",
                   "Hello, the app says \"{error}\" but everything else seems fine. Should I worry?"),
    ("outage", 0): ("Our internet is down AGAIN. We are losing money, when will it be fixed?",
                    "No connectivity at the office since 6pm, {product} is dead. Terrible service."),
    ("outage", 1): ("Hi, is there a known outage in our area? {product} seems to be down.",
                    "Hello, just checking: is maintenance happening tonight? Our line dropped."),
    ("invoice", 0): ("Invoice {invoice} is wrong, we never ordered that. Please fix it.",
                     "Why is there a late fee on {invoice}? We paid on time, check your records."),
    ("invoice", 1): ("Hi, can you resend invoice {invoice}? I can't find it, thanks.",
                     "Hello, please could you add our VAT number to invoice {invoice}?",
                     "Hi! Where can I download last month's invoice?"),
    ("upgrade", 0): ("I asked for an upgrade to {product} two weeks ago and nothing happened.",),
    ("upgrade", 1): ("Hi, we'd like to upgrade to {product}. What are the next steps?",
                     "Hello, we're growing fast, can we increase our bandwidth? Thanks, great service so far!",
                     "Loving {product} so far. Can we add it for another 20 users?"),
    ("onboarding", 0): ("The technician did not arrive for the installation today. Very disappointing.",),
    ("onboarding", 1): ("Hi, we just signed up. How do I get access to the customer portal?",
                        "Hello, when will the installation of {product} be scheduled? Thanks!"),
}
CHAT_FOLLOWUPS: dict[int, tuple[str, ...]] = {
    0: ("This is the third time I'm asking.", "Can I speak to a manager please?",
        "Still not working.", "OK but when exactly?", "That doesn't answer my question.",
        "We are seriously considering cancelling.", "Please escalate this, it's urgent."),
    1: ("Thanks, that helps.", "Great, thank you!", "Perfect, I'll wait for the email.",
        "Sure, my account number is in the profile.", "Okay, sounds good.", "Thank you so much, have a good evening!"),
}
AGENT_REPLIES: dict[str, tuple[str, ...]] = {
    "refund": ("Hi {name}, I'm sorry about that. I've logged a refund request, it takes 5-7 working days.",
               "Thanks {name}, I can see the duplicate charge. The refund of {amount} has been approved."),
    "pricing": ("Hi {name}, thanks for asking! I'll have your account manager send a quote today.",
                "Hello {name}, {product} is available with a 10% discount on a 24-month term."),
    "error": ("Hi {name}, sorry for the trouble. Could you clear your cache and try again?",
              "Thanks {name}, error {error} is a known issue, our engineers are on it."),
    "outage": ("Hi {name}, we're aware of an outage in your area and a team is on site. ETA 2 hours.",
               "Sorry {name}, I've opened a priority ticket for your site. We'll update you shortly."),
    "invoice": ("Hi {name}, I've resent invoice {invoice} to your billing email.",
                "Thanks {name}, I've asked billing to review {invoice}. You'll hear back within 24 hours."),
    "upgrade": ("Great news {name}! I've passed this to your account manager, expect a call tomorrow.",
                "Hi {name}, the upgrade to {product} can be done remotely, shall I book it for this week?"),
    "onboarding": ("Welcome aboard {name}! I've sent the portal invite to your email.",
                   "Hi {name}, sorry about the missed appointment. I've rebooked the technician for tomorrow."),
}
AGENT_CLOSERS: tuple[str, ...] = (
    "Is there anything else I can help with?", "Glad I could help. Have a great evening!",
    "I'll close this chat now, just message us again if needed.")
ERROR_CODES: tuple[str, ...] = ("ERR-5031", "AUTH_401", "E1042", "TIMEOUT-504", "SYNC_FAILED", "0x80070005")

CAMPAIGN_OBJECTIVES: tuple[str, ...] = (
    "upsell", "retention", "winback", "product_launch", "event_invite", "nps_survey", "payment_reminder")
CAMPAIGN_THEMES: dict[str, tuple[str, ...]] = {
    "upsell": ("Cloud Backup Upsell", "Bandwidth Boost", "Security Bundle", "SD-WAN Upgrade"),
    "retention": ("Loyalty Rewards", "Contract Renewal", "Customer Appreciation"),
    "winback": ("We Miss You", "Come Back Offer"),
    "product_launch": ("Fibre 1 Gbps Launch", "Managed Firewall Launch", "New Cloud Region"),
    "event_invite": ("Connectivity Summit", "Cyber Security Breakfast", "Partner Webinar"),
    "nps_survey": ("Customer Survey", "NPS Check-in"),
    "payment_reminder": ("Paperless Billing", "Debit Order Switch"),
}
VARIANT_TEXTS: dict[str, tuple[str, str]] = {
    "upsell": ("Hi {first_name}, upgrade today and get 2 months free. Reply YES to learn more.",
               "{first_name}, your team could be 2x faster. Want a free trial? Just reply \"YES\"."),
    "retention": ("Dear {first_name}, thank you for being a customer. Renew now and save 10%.",
                  "{first_name}, you're one of our best customers, here's a loyalty gift: reply to claim it."),
    "winback": ("Hi {first_name}, we'd love to have you back. Special pricing inside.",
                "{first_name}, we've improved a lot. Can we show you? Reply for a call back."),
    "product_launch": ("Introducing our newest service. Read more on our website, {first_name}.",
                       "{first_name}, be the first to try it: reply NOW for early access, limited spots."),
    "event_invite": ("You're invited, {first_name}. Join us for our annual event.",
                     "{first_name}, we saved you a seat! Reply to confirm, breakfast is on us."),
    "nps_survey": ("How likely are you to recommend us? Reply with a score from 0 to 10.",
                   "{first_name}, one quick question: would you recommend us to a friend? Reply 0-10."),
    "payment_reminder": ("Switch to paperless billing today, {first_name}.",
                         "{first_name}, go paperless and we'll credit your next invoice. Reply YES."),
}
CAMPAIGN_REPLIES: tuple[tuple[str, ...], ...] = (
    ("YES", "Yes please, call me tomorrow morning.", "Interested, send me the details.", "Sounds good, how much?",
     "Yes! Can you include our second site?", "Count me in.", "9", "10, great service"),
    ("STOP", "Not interested, thanks.", "Please remove me from this list.", "We're happy with our current setup.",
     "Wrong number.", "3", "Fix my outage first, then talk to me about upgrades."),
    ("What's the price after the free months?", "Does this include installation?",
     "Can I get this for our Nairobi office too?", "Who is this?", "Call me after 5pm, please."),
)

# Rival providers customers name in chats and survey comments (fictional, like the vendor).
COMPETITORS: tuple[str, ...] = ("Stratus Networks", "Liquid Horizon", "NovaLink", "Apex Fibre", "BlueWave Telecom",
                                "Crestline Communications")
# Sentences a customer adds to a chat when a competitor is courting them.
COMPETITOR_MENTIONS: tuple[str, ...] = (
    "{competitor} quoted us 20% less for the same service.",
    "We have an offer from {competitor} on the table, can you match it?",
    "Honestly, {competitor} has been far more responsive when we spoke to them.",
    "{competitor} can install next week. Why does it take you a month?",
    "Our new branch went with {competitor}, and we may move the rest as well.",
    "A colleague at another firm switched to {competitor} and is very happy.",
)

SURVEY_COMMENTS: dict[str, tuple[str, ...]] = {
    "promoter": ("Reliable service and quick support, thank you.", "Great account manager, always available.",
                 "Fibre has been rock solid since installation.", "Easy to work with, fair pricing.",
                 "The support team sorted our issue in minutes."),
    "passive": ("Service is fine, billing could be clearer.", "Mostly good, a few outages this quarter.",
                "Okay overall. Support is slow at month end.", "Does the job, nothing special."),
    "detractor": ("Too many outages and nobody tells us why.", "Invoices are wrong every other month.",
                  "Prices went up again without any improvement.", "Support takes days to answer a simple question.",
                  "We are looking at {competitor}, they are cheaper.",
                  "{competitor} offers more for less, we are reviewing our contract."),
}
DISPUTE_REASONS: tuple[str, ...] = ("incorrect_amount", "pricing_not_applied", "duplicate_charge",
                                    "service_not_received", "tax_error", "late_fee")
DISPUTE_REASON_WEIGHTS = (0.3, 0.2, 0.1, 0.15, 0.1, 0.15)
