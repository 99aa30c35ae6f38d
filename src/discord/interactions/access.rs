//! Who may do what, where: every interaction is checked against the configured guilds and
//! the roles allowed for what it asks, before anything else is read or asked.

use serenity::all::{CommandInteraction, ComponentInteraction, GuildId, Member, UserId};

use crate::discord::config::DiscordConfig;

/// Why someone was refused; the text is shown to them alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not in a configured guild (or in a direct message while guilds are configured).
    #[error("This command is not available here.")]
    ElsewhereThanConfigured,
    /// Without any of the roles allowed to do this.
    #[error("You need one of the roles allowed to use {0}.")]
    MissingRole(&'static str),
}

/// Where an interaction happened and who made it.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The guild, `None` in a direct message.
    pub guild: Option<GuildId>,
    /// The member, with their roles (`None` in a direct message).
    pub member: Option<Box<Member>>,
    /// The user.
    pub user: UserId,
}

impl Origin {
    /// Where `command` was used, and by whom.
    pub fn of_command(command: &CommandInteraction) -> Origin {
        Origin {
            guild: command.guild_id,
            member: command.member.clone(),
            user: command.user.id,
        }
    }

    /// Where `component` (a button) was pressed, and by whom.
    pub fn of_component(component: &ComponentInteraction) -> Origin {
        Origin {
            guild: component.guild_id,
            member: component.member.clone().map(Box::new),
            user: component.user.id,
        }
    }

    /// Whether this asker may do `what` (a command's name, for the refusal), which `roles`
    /// are allowed to do (empty: everyone in the configured guilds).
    pub fn check(
        &self,
        config: &DiscordConfig,
        roles: &[String],
        what: &'static str,
    ) -> Result<(), Refusal> {
        let in_guild = self
            .guild
            .is_some_and(|guild| config.guilds.contains(&guild.get()));
        if !config.guilds.is_empty() && !in_guild {
            return Err(Refusal::ElsewhereThanConfigured);
        }
        let has_role = self.member.as_ref().is_some_and(|member| {
            member.roles.iter().any(|role| {
                roles
                    .iter()
                    .any(|allowed| allowed.trim() == role.to_string())
            })
        });
        if !roles.is_empty() && !has_role {
            return Err(Refusal::MissingRole(what));
        }
        Ok(())
    }
}
