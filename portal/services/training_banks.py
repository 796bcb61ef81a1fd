"""The question banks of the courses the portal ships, written for this project from what
sections V.B, V.C and V.E of the agreement ask of HMIS users: using the HMIS for its purpose,
client consent, data quality, passwords, confidentiality and reporting security lapses.

Each question: its text, its choices, and the index of the correct choice. The right answer
is written first, for whoever reviews the bank; `training_catalog` moves it when seeding.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shipped:
    code: str
    title: str
    description: str
    required: bool
    hmis_role: str
    questions: tuple[tuple[str, tuple[str, ...], int], ...]


NEW_USER = Shipped(
    code="new-hmis-user",
    title="New HMIS User",
    description=(
        "What every person needs before their HMIS account is issued: what the HMIS is for, "
        "the client's consent, entering good data on time, and keeping your account your own."
    ),
    required=True,
    hmis_role="",
    questions=(
        (
            "What may you use the HMIS for?",
            (
                "Only the agency's legitimate work with and for its clients",
                "Looking up friends or relatives to see whether they are safe",
                "Anything, as long as you are logged in with your own account",
                "Checking on a neighbour a client mentioned",
            ),
            0,
        ),
        (
            "Before a client's information is entered into the HMIS at the first visit, what "
            "must the agency have?",
            (
                "The client's written consent, after explaining the HMIS to them",
                "A verbal yes from the client",
                "Nothing: consent is only needed when data is shared",
                "The case manager's signature",
            ),
            0,
        ),
        (
            "A client declines to have their information entered into the HMIS. What happens "
            "to their services?",
            (
                "They receive services as usual: services never depend on taking part in the HMIS",
                "They can only get emergency services",
                "They are placed on a waiting list until they consent",
                "The agency must refer them elsewhere",
            ),
            0,
        ),
        (
            "When may you enter a client's data into the HMIS under a co-worker's login?",
            (
                "Never: each person uses only their own account",
                "When the co-worker is out sick and the data is urgent",
                "When your supervisor says so",
                "When your own account is locked",
            ),
            0,
        ),
        (
            "Why does the HMIS ask that data be entered within the time the Data Quality Plan "
            "sets?",
            (
                "Late entry causes duplicate records and makes reports wrong",
                "The HMIS deletes records that are not entered within a week",
                "It does not matter as long as it is entered within the year",
                "So that the agency's invoices are paid sooner",
            ),
            0,
        ),
        (
            "A client's date of birth on their ID differs from what they told you. What do you do?",
            (
                "Take reasonable steps to verify it and enter the correct information",
                "Enter whichever date is easier",
                "Leave the field blank so no one notices",
                "Enter a made-up date so the record saves",
            ),
            0,
        ),
        (
            "Which of these must never be written in a case note in the HMIS?",
            (
                "Offensive or discriminatory remarks about the client",
                "The date of the client's last visit",
                "The services the client received",
                "The referral the client was given",
            ),
            0,
        ),
        (
            "You leave your desk for a few minutes with the HMIS open. What should you do?",
            (
                "Lock the screen or log out",
                "Turn the monitor slightly away",
                "Nothing, the office is staffed",
                "Ask a client in the waiting room to watch it",
            ),
            0,
        ),
        (
            "How long is a client's signed consent and release of information normally valid "
            "in our HMIS?",
            (
                "Five years from the date it was signed",
                "Until the end of the calendar year",
                "For as long as the client lives",
                "Thirty days",
            ),
            0,
        ),
        (
            "You leave the agency or change jobs. Who must tell the lead agency, and how soon?",
            (
                "The agency, within one business day, so the account is closed",
                "No one: unused accounts close by themselves",
                "You, within 30 days",
                "The agency, at the next annual review",
            ),
            0,
        ),
        (
            "Someone from another organization, not part of the HMIS, asks you for a client's "
            "address. What do you do?",
            (
                "Refuse unless the client's written consent or the law allows it",
                "Give it if they say they are helping the client",
                "Give it by phone but not in writing",
                "Give it if they work for a government agency",
            ),
            0,
        ),
        (
            "You know that a piece of information about a client is false. May you enter it "
            "into the HMIS?",
            (
                "No: knowingly entering false or misleading data is never allowed",
                "Yes, with a note that it may be false",
                "Yes, if the client insists",
                "Yes, if you correct it at the end of the month",
            ),
            0,
        ),
    ),
)

PRIVACY = Shipped(
    code="privacy-security",
    title="Privacy & Security",
    description=(
        "Passwords, keeping client information private, what to do about a security lapse, "
        "and what a breach can cost a user and their agency."
    ),
    required=True,
    hmis_role="",
    questions=(
        (
            "A co-worker asks for your HMIS password to finish a report while you are away. "
            "What do you do?",
            (
                "Refuse: passwords are never shared, with anyone",
                "Give it, then change it when you are back",
                "Write it down and leave it in a sealed envelope",
                "Give it only if they are in the same program",
            ),
            0,
        ),
        (
            "Where may you keep your HMIS password?",
            (
                "In your memory or a password manager approved by your agency",
                "On a sticky note under your keyboard",
                "In an e-mail to yourself",
                "In a shared document so IT can find it",
            ),
            0,
        ),
        (
            "You notice that someone may have logged in to the HMIS with your account. What do "
            "you do first?",
            (
                "Report it to the lead agency's HMIS team at once and change your password",
                "Wait to see whether it happens again",
                "Tell only your co-workers",
                "Delete the records they might have seen",
            ),
            0,
        ),
        (
            "Who is responsible for putting the agency's HMIS privacy and security procedures "
            "into practice at the agency?",
            (
                "The agency's security officer, designated by the agency",
                "Each client",
                "The software vendor",
                "Nobody in particular",
            ),
            0,
        ),
        (
            "A client withdraws their consent to share their information. What must the agency do?",
            (
                "Make sure their information is no longer available to other agencies",
                "Nothing: consent cannot be withdrawn",
                "Delete every record of the client, including service history",
                "Stop serving the client",
            ),
            0,
        ),
        (
            "Which records need the client's specific written consent before they can be "
            "disclosed, where a general release is not enough?",
            (
                "Alcohol and drug treatment records",
                "The date the client entered the program",
                "The name of the agency's program",
                "The number of beds at the shelter",
            ),
            0,
        ),
        (
            "You print a report that lists clients' names. What should you do with it when you "
            "are done?",
            (
                "Shred it or store it locked away; never leave it out",
                "Recycle it with the paper",
                "Leave it in the printer tray for the next person",
                "Take it home to finish reading",
            ),
            0,
        ),
        (
            "An e-mail that looks like it comes from the HMIS asks you to confirm your password "
            "by following a link. What do you do?",
            (
                "Do not follow it; report it to the HMIS team",
                "Follow the link and enter your password",
                "Reply with your password so they can check it",
                "Forward it to co-workers so they can confirm too",
            ),
            0,
        ),
        (
            "What may happen to a user who breaches client confidentiality or system security?",
            (
                "Their HMIS access can be ended, and the agency's participation can be put at risk",
                "Nothing, if it was an accident",
                "They get a reminder e-mail only",
                "They must take the course again, nothing more",
            ),
            0,
        ),
        (
            "Which of these belongs in the agency's local security standards?",
            (
                "Locked doors, screens that passers-by cannot read, and strong network passwords",
                "A shared login for the front desk",
                "Leaving computers logged in overnight so updates run",
                "Posting passwords on the staff notice board",
            ),
            0,
        ),
        (
            "Where must the HMIS privacy notice be posted at the agency?",
            (
                "At each intake desk or similar place where clients can read it",
                "Only in the director's office",
                "Nowhere: it is given only on request",
                "In the staff break room",
            ),
            0,
        ),
        (
            "You need to send a client's information to a partner agency that is part of the "
            "HMIS and that the client agreed to share with. How do you send it?",
            (
                "Through the HMIS itself or another secure channel the agency approves",
                "By a text message to the worker's personal phone",
                "In the body of an ordinary e-mail to a personal account",
                "On a USB stick left at the reception desk",
            ),
            0,
        ),
    ),
)

INTAKE_REFRESHER = Shipped(
    code="refresher-intake",
    title="Intake refresher",
    description=(
        "A yearly refresher for staff who do intake and assessment: explaining the HMIS, "
        "consent, and entering a new client without making a duplicate."
    ),
    required=False,
    hmis_role="intake",
    questions=(
        (
            "Before an intake interview, what must the client hear from you?",
            (
                "An explanation that their information is entered in a shared computer system, "
                "and the terms of consent",
                "Nothing until the interview is over",
                "Only the agency's opening hours",
                "That they must consent to get services",
            ),
            0,
        ),
        (
            "Before creating a new client record, what should you do?",
            (
                "Search the HMIS for an existing record of the client",
                "Create a new record every time the client comes in",
                "Ask a co-worker to create it under their login",
                "Wait until the client has been in the program for a month",
            ),
            0,
        ),
        (
            "A client's consent form is signed. What does the agency do with it?",
            (
                "Keep it on file (and, preferably, upload it to the client's HMIS record)",
                "Give it back to the client and keep no copy",
                "Throw it away once the data is entered",
                "Post it on the intake desk",
            ),
            0,
        ),
        (
            "The client asks what information will be shared and with whom. What do you do?",
            (
                "Tell them: a client must know what is shared and with whom",
                "Say it is confidential",
                "Tell them to ask the lead agency",
                "Tell them nothing is shared, whatever the form says",
            ),
            0,
        ),
        (
            "Which data must be collected at intake?",
            (
                "All the mandatory data elements, as complete and accurate as the client allows",
                "Only the client's name",
                "Whatever fits on the first screen",
                "Only what the funder asks about this month",
            ),
            0,
        ),
        (
            "A client still in the program signed their consent more than five years ago. What "
            "do you do?",
            (
                "Ask them to sign a new consent",
                "Nothing: consent never expires",
                "Close their record",
                "Sign a new form on their behalf",
            ),
            0,
        ),
        (
            "A client asks for a written copy of the HMIS privacy notice. What do you do?",
            (
                "Give them one: it must be available in writing on request",
                "Tell them it is only on the wall",
                "Tell them to look it up online",
                "Refuse, because only staff may have it",
            ),
            0,
        ),
        (
            "The intake area is busy and others can see your screen. What do you do?",
            (
                "Turn the screen or use a privacy filter so others cannot read client data",
                "Nothing, clients are used to it",
                "Read the data out loud instead",
                "Print the record and hand it around",
            ),
            0,
        ),
        (
            "A problem at your agency will delay data entry past the allowed time. What do you do?",
            (
                "Tell the lead agency right away so an interim solution can be found",
                "Say nothing and enter everything at the end of the year",
                "Enter estimated data to keep up",
                "Stop collecting data until the problem is solved",
            ),
            0,
        ),
        (
            "Can a client be refused shelter because they will not sign the HMIS consent?",
            (
                "No: services never depend on taking part in the HMIS",
                "Yes, the consent is required for shelter",
                "Only on weekends",
                "Only if the shelter is full",
            ),
            0,
        ),
    ),
)

SHIPPED = (NEW_USER, PRIVACY, INTAKE_REFRESHER)
